using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Reflection.Emit;
using System.Reflection.Metadata;
using System.Reflection.Metadata.Ecma335;
using System.Reflection.PortableExecutable;

namespace AzureLinuxImage.Tests.Surface
{
    /// <summary>One use of a type of the same assembly: who uses it, which, and where.</summary>
    public sealed record TypeUse(string FromType, string ToType, string Where);

    /// <summary>
    /// Every use, inside one assembly, of one of its own types by another: base types, interfaces,
    /// generic constraints, field, method, property and event signatures, custom attributes, local
    /// variables and every token in method bodies (calls, field accesses, casts, typeof, ldtoken).
    /// Read with System.Reflection.Metadata, so nothing is loaded or run.
    /// </summary>
    public static class LayerReferences
    {
        private static readonly Dictionary<short, OperandType> OperandTypes = typeof(OpCodes)
            .GetFields(BindingFlags.Public | BindingFlags.Static)
            .Select(f => (OpCode)f.GetValue(null)!)
            .ToDictionary(o => o.Value, o => o.OperandType);

        public static IReadOnlyList<TypeUse> Read(string assemblyPath)
        {
            using var stream = File.OpenRead(assemblyPath);
            using var pe = new PEReader(stream);
            return Read(pe);
        }

        public static IReadOnlyList<TypeUse> Read(PEReader pe)
        {
            MetadataReader md = pe.GetMetadataReader();
            var provider = new DefinitionProvider(md);
            var uses = new List<TypeUse>();
            foreach (TypeDefinitionHandle th in md.TypeDefinitions)
            {
                TypeDefinition type = md.GetTypeDefinition(th);
                string from = FullName(md, th);
                void Add(IEnumerable<TypeDefinitionHandle> targets, string where)
                {
                    foreach (TypeDefinitionHandle t in targets)
                    {
                        if (t != th)
                        {
                            uses.Add(new TypeUse(from, FullName(md, t), where));
                        }
                    }
                }

                if (!type.BaseType.IsNil)
                {
                    Add(provider.FromToken(type.BaseType), "base type");
                }
                foreach (InterfaceImplementationHandle ih in type.GetInterfaceImplementations())
                {
                    Add(provider.FromToken(md.GetInterfaceImplementation(ih).Interface), "interface");
                }
                AddGenericConstraints(md, provider, type.GetGenericParameters(), Add);
                AddAttributes(md, provider, type.GetCustomAttributes(), "attribute", Add);
                foreach (FieldDefinitionHandle fh in type.GetFields())
                {
                    FieldDefinition field = md.GetFieldDefinition(fh);
                    string where = "field " + md.GetString(field.Name);
                    Add(field.DecodeSignature(provider, null), where);
                    AddAttributes(md, provider, field.GetCustomAttributes(), where, Add);
                }
                foreach (PropertyDefinitionHandle ph in type.GetProperties())
                {
                    PropertyDefinition property = md.GetPropertyDefinition(ph);
                    string where = "property " + md.GetString(property.Name);
                    MethodSignature<ImmutableArray<TypeDefinitionHandle>> sig = property.DecodeSignature(provider, null);
                    Add(sig.ReturnType.Concat(sig.ParameterTypes.SelectMany(p => p)), where);
                    AddAttributes(md, provider, property.GetCustomAttributes(), where, Add);
                }
                foreach (EventDefinitionHandle eh in type.GetEvents())
                {
                    EventDefinition ev = md.GetEventDefinition(eh);
                    Add(provider.FromToken(ev.Type), "event " + md.GetString(ev.Name));
                }
                foreach (MethodDefinitionHandle mh in type.GetMethods())
                {
                    MethodDefinition method = md.GetMethodDefinition(mh);
                    string where = "method " + md.GetString(method.Name);
                    MethodSignature<ImmutableArray<TypeDefinitionHandle>> sig = method.DecodeSignature(provider, null);
                    Add(sig.ReturnType.Concat(sig.ParameterTypes.SelectMany(p => p)), where + " signature");
                    AddGenericConstraints(md, provider, method.GetGenericParameters(), Add);
                    AddAttributes(md, provider, method.GetCustomAttributes(), where, Add);
                    foreach (ParameterHandle parh in method.GetParameters())
                    {
                        AddAttributes(md, provider, md.GetParameter(parh).GetCustomAttributes(), where, Add);
                    }
                    if (method.RelativeVirtualAddress != 0)
                    {
                        MethodBodyBlock body = pe.GetMethodBody(method.RelativeVirtualAddress);
                        if (!body.LocalSignature.IsNil)
                        {
                            StandaloneSignature locals = md.GetStandaloneSignature(body.LocalSignature);
                            Add(locals.DecodeLocalSignature(provider, null).SelectMany(l => l), where + " locals");
                        }
                        Add(BodyTokens(body).SelectMany(provider.FromToken), where + " body");
                    }
                }
            }
            return uses;
        }

        /// <summary>Every type defined in the assembly, nested ones as Outer/Inner.</summary>
        public static IReadOnlyList<string> Types(string assemblyPath)
        {
            using var stream = File.OpenRead(assemblyPath);
            using var pe = new PEReader(stream);
            MetadataReader md = pe.GetMetadataReader();
            return md.TypeDefinitions.Select(t => FullName(md, t)).ToList();
        }

        /// <summary>The type's namespace; a nested type takes its outermost declaring type's.</summary>
        public static string Namespace(string fullName)
        {
            string outer = fullName.Split('/')[0];
            int dot = outer.LastIndexOf('.');
            return dot < 0 ? string.Empty : outer.Substring(0, dot);
        }

        private static void AddGenericConstraints(MetadataReader md, DefinitionProvider provider, GenericParameterHandleCollection parameters, Action<IEnumerable<TypeDefinitionHandle>, string> add)
        {
            foreach (GenericParameterHandle gh in parameters)
            {
                foreach (GenericParameterConstraintHandle ch in md.GetGenericParameter(gh).GetConstraints())
                {
                    add(provider.FromToken(md.GetGenericParameterConstraint(ch).Type), "generic constraint");
                }
            }
        }

        private static void AddAttributes(MetadataReader md, DefinitionProvider provider, CustomAttributeHandleCollection attributes, string where, Action<IEnumerable<TypeDefinitionHandle>, string> add)
        {
            foreach (CustomAttributeHandle ah in attributes)
            {
                add(provider.FromToken(md.GetCustomAttribute(ah).Constructor), where + " attribute");
            }
        }

        /// <summary>The metadata tokens of a method body's instructions (operand sizes from System.Reflection.Emit.OpCodes).</summary>
        private static IEnumerable<EntityHandle> BodyTokens(MethodBodyBlock body)
        {
            BlobReader il = body.GetILReader();
            var tokens = new List<EntityHandle>();
            while (il.RemainingBytes > 0)
            {
                short value = il.ReadByte();
                if (value == 0xFE)
                {
                    value = unchecked((short)(0xFE00 | il.ReadByte()));
                }
                switch (OperandTypes[value])
                {
                    case OperandType.InlineNone:
                        break;
                    case OperandType.ShortInlineBrTarget:
                    case OperandType.ShortInlineI:
                    case OperandType.ShortInlineVar:
                        il.Offset += 1;
                        break;
                    case OperandType.InlineVar:
                        il.Offset += 2;
                        break;
                    case OperandType.InlineBrTarget:
                    case OperandType.InlineI:
                    case OperandType.ShortInlineR:
                    case OperandType.InlineString:
                        il.Offset += 4;
                        break;
                    case OperandType.InlineI8:
                    case OperandType.InlineR:
                        il.Offset += 8;
                        break;
                    case OperandType.InlineSwitch:
                        int count = il.ReadInt32();
                        il.Offset += 4 * count;
                        break;
                    case OperandType.InlineField:
                    case OperandType.InlineMethod:
                    case OperandType.InlineSig:
                    case OperandType.InlineTok:
                    case OperandType.InlineType:
                        tokens.Add(MetadataTokens.EntityHandle(il.ReadInt32()));
                        break;
                    default:
                        throw new InvalidOperationException($"IL opcode 0x{value:X} has an operand this reader does not know.");
                }
            }
            return tokens;
        }

        private static string FullName(MetadataReader md, TypeDefinitionHandle handle)
        {
            TypeDefinition type = md.GetTypeDefinition(handle);
            string name = md.GetString(type.Name);
            TypeDefinitionHandle declaring = type.GetDeclaringType();
            if (!declaring.IsNil)
            {
                return FullName(md, declaring) + "/" + name;
            }
            string ns = md.GetString(type.Namespace);
            return ns.Length == 0 ? name : ns + "." + name;
        }

        /// <summary>Decodes signatures to the set of this assembly's type definitions they name (other assemblies' types drop out).</summary>
        private sealed class DefinitionProvider : ISignatureTypeProvider<ImmutableArray<TypeDefinitionHandle>, object?>
        {
            private static readonly ImmutableArray<TypeDefinitionHandle> None = ImmutableArray<TypeDefinitionHandle>.Empty;
            private readonly MetadataReader md;

            public DefinitionProvider(MetadataReader md) => this.md = md;

            /// <summary>The definitions a token names: a type, a member's declaring type and signature, a method instantiation.</summary>
            public IEnumerable<TypeDefinitionHandle> FromToken(EntityHandle handle)
            {
                switch (handle.Kind)
                {
                    case HandleKind.TypeDefinition:
                        return new[] { (TypeDefinitionHandle)handle };
                    case HandleKind.TypeReference:
                        return None;
                    case HandleKind.TypeSpecification:
                        return md.GetTypeSpecification((TypeSpecificationHandle)handle).DecodeSignature(this, null);
                    case HandleKind.FieldDefinition:
                        FieldDefinition field = md.GetFieldDefinition((FieldDefinitionHandle)handle);
                        return field.DecodeSignature(this, null).Append(field.GetDeclaringType());
                    case HandleKind.MethodDefinition:
                        MethodDefinition method = md.GetMethodDefinition((MethodDefinitionHandle)handle);
                        return Flatten(method.DecodeSignature(this, null)).Append(method.GetDeclaringType());
                    case HandleKind.MemberReference:
                        MemberReference member = md.GetMemberReference((MemberReferenceHandle)handle);
                        IEnumerable<TypeDefinitionHandle> parent = member.Parent.Kind == HandleKind.MethodDefinition
                            ? FromToken(member.Parent)
                            : member.Parent.Kind is HandleKind.TypeDefinition or HandleKind.TypeReference or HandleKind.TypeSpecification ? FromToken(member.Parent) : None;
                        IEnumerable<TypeDefinitionHandle> signature = member.GetKind() == MemberReferenceKind.Field
                            ? member.DecodeFieldSignature(this, null)
                            : Flatten(member.DecodeMethodSignature(this, null));
                        return parent.Concat(signature);
                    case HandleKind.MethodSpecification:
                        MethodSpecification spec = md.GetMethodSpecification((MethodSpecificationHandle)handle);
                        return FromToken(spec.Method).Concat(spec.DecodeSignature(this, null).SelectMany(t => t));
                    case HandleKind.StandaloneSignature:
                        StandaloneSignature standalone = md.GetStandaloneSignature((StandaloneSignatureHandle)handle);
                        return standalone.GetKind() == StandaloneSignatureKind.Method
                            ? Flatten(standalone.DecodeMethodSignature(this, null))
                            : standalone.DecodeLocalSignature(this, null).SelectMany(t => t);
                    default:
                        return None;
                }
            }

            private static IEnumerable<TypeDefinitionHandle> Flatten(MethodSignature<ImmutableArray<TypeDefinitionHandle>> sig) =>
                sig.ReturnType.Concat(sig.ParameterTypes.SelectMany(p => p));

            public ImmutableArray<TypeDefinitionHandle> GetArrayType(ImmutableArray<TypeDefinitionHandle> elementType, ArrayShape shape) => elementType;

            public ImmutableArray<TypeDefinitionHandle> GetByReferenceType(ImmutableArray<TypeDefinitionHandle> elementType) => elementType;

            public ImmutableArray<TypeDefinitionHandle> GetFunctionPointerType(MethodSignature<ImmutableArray<TypeDefinitionHandle>> signature) => Flatten(signature).ToImmutableArray();

            public ImmutableArray<TypeDefinitionHandle> GetGenericInstantiation(ImmutableArray<TypeDefinitionHandle> genericType, ImmutableArray<ImmutableArray<TypeDefinitionHandle>> typeArguments) =>
                genericType.AddRange(typeArguments.SelectMany(a => a));

            public ImmutableArray<TypeDefinitionHandle> GetGenericMethodParameter(object? genericContext, int index) => None;

            public ImmutableArray<TypeDefinitionHandle> GetGenericTypeParameter(object? genericContext, int index) => None;

            public ImmutableArray<TypeDefinitionHandle> GetModifiedType(ImmutableArray<TypeDefinitionHandle> modifier, ImmutableArray<TypeDefinitionHandle> unmodifiedType, bool isRequired) => unmodifiedType.AddRange(modifier);

            public ImmutableArray<TypeDefinitionHandle> GetPinnedType(ImmutableArray<TypeDefinitionHandle> elementType) => elementType;

            public ImmutableArray<TypeDefinitionHandle> GetPointerType(ImmutableArray<TypeDefinitionHandle> elementType) => elementType;

            public ImmutableArray<TypeDefinitionHandle> GetPrimitiveType(PrimitiveTypeCode typeCode) => None;

            public ImmutableArray<TypeDefinitionHandle> GetSZArrayType(ImmutableArray<TypeDefinitionHandle> elementType) => elementType;

            public ImmutableArray<TypeDefinitionHandle> GetTypeFromDefinition(MetadataReader reader, TypeDefinitionHandle handle, byte rawTypeKind) => ImmutableArray.Create(handle);

            public ImmutableArray<TypeDefinitionHandle> GetTypeFromReference(MetadataReader reader, TypeReferenceHandle handle, byte rawTypeKind) => None;

            public ImmutableArray<TypeDefinitionHandle> GetTypeFromSpecification(MetadataReader reader, object? genericContext, TypeSpecificationHandle handle, byte rawTypeKind) =>
                reader.GetTypeSpecification(handle).DecodeSignature(this, genericContext);
        }
    }
}
